"""Authenticators made the way allauth.mfa makes them, and the codes an app would show."""

from __future__ import annotations

import hashlib
import json
import secrets
import time

from allauth.mfa.models import Authenticator
from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes
from allauth.mfa.totp.internal.auth import TOTP, format_hotp_value, generate_totp_secret, hotp_value

from accounts.models import User

STEP = 30


def totp_enable(user: User) -> str:
    """Give `user` an authenticator app and recovery codes; returns the app's secret."""
    secret = generate_totp_secret()
    TOTP.activate(user, secret)
    RecoveryCodes.activate(user)
    return secret


def totp_code(secret: str, *, steps: int = 0) -> str:
    """The code the app shows now (`steps` periods later or earlier: each one is accepted once)."""
    return format_hotp_value(hotp_value(secret, int(time.time()) // STEP + steps))


def recovery_codes(user: User) -> list[str]:
    authenticator = Authenticator.objects.get(user=user, type=Authenticator.Type.RECOVERY_CODES)
    return RecoveryCodes(authenticator).get_unused_codes()


class SoftKey:
    """A WebAuthn authenticator in software: an ES256 key that answers the browser ceremonies the
    way a security key does ("none" attestation), so the server side runs for real."""

    def __init__(self, rp_id: str = "testserver", origin: str = "http://testserver") -> None:
        from cryptography.hazmat.primitives.asymmetric import ec

        self.key = ec.generate_private_key(ec.SECP256R1())
        self.credential_id = secrets.token_bytes(16)
        self.rp_id_hash = hashlib.sha256(rp_id.encode()).digest()
        self.origin = origin
        self.counter = 0

    def register(self, creation_options: dict) -> str:
        from fido2.cose import ES256
        from fido2.utils import websafe_decode
        from fido2.webauthn import (
            AttestationObject,
            AttestedCredentialData,
            AuthenticatorAttestationResponse,
            AuthenticatorData,
            CollectedClientData,
            RegistrationResponse,
        )

        challenge = websafe_decode(creation_options["publicKey"]["challenge"])
        client_data = CollectedClientData.create("webauthn.create", challenge, self.origin)
        public_key = ES256.from_cryptography_key(self.key.public_key())
        credential = AttestedCredentialData.create(b"\0" * 16, self.credential_id, public_key)
        flags = AuthenticatorData.FLAG.UP | AuthenticatorData.FLAG.UV | AuthenticatorData.FLAG.AT
        auth_data = AuthenticatorData.create(self.rp_id_hash, flags, self.counter, credential)
        attestation = AttestationObject.create("none", auth_data, {})
        response = RegistrationResponse(
            raw_id=self.credential_id,
            response=AuthenticatorAttestationResponse(client_data=client_data, attestation_object=attestation),
        )
        return json.dumps(dict(response))

    def sign_in(self, request_options: dict) -> str:
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import ec
        from fido2.utils import websafe_decode
        from fido2.webauthn import (
            AuthenticationResponse,
            AuthenticatorAssertionResponse,
            AuthenticatorData,
            CollectedClientData,
        )

        self.counter += 1
        challenge = websafe_decode(request_options["publicKey"]["challenge"])
        client_data = CollectedClientData.create("webauthn.get", challenge, self.origin)
        flags = AuthenticatorData.FLAG.UP | AuthenticatorData.FLAG.UV
        auth_data = AuthenticatorData.create(self.rp_id_hash, flags, self.counter)
        signature = self.key.sign(bytes(auth_data) + client_data.hash, ec.ECDSA(hashes.SHA256()))
        response = AuthenticationResponse(
            raw_id=self.credential_id,
            response=AuthenticatorAssertionResponse(
                client_data=client_data, authenticator_data=auth_data, signature=signature
            ),
        )
        return json.dumps(dict(response))
