// PUNT inbox: live unread counts and live lists (every signed-in page).
