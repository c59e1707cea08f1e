"""Real-time delivery: WebSocket consumers, PUNT's SSE streams, presence and the replay buffer.

punt.events is the bus that feeds all of it; see README.md in this folder.
"""
