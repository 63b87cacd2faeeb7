"""bridge.directory: the IAM service layer (users, roles, policies, keys, MFA, providers)."""

from bridge.directory.effective import EffectivePolicies
from bridge.directory.passwords import HashingConfig, PasswordHashing, PasswordPolicy
from bridge.directory.sealing import Sealer
from bridge.directory.service import Directory

__all__ = [
    "Directory",
    "EffectivePolicies",
    "HashingConfig",
    "PasswordHashing",
    "PasswordPolicy",
    "Sealer",
]
