"""bridge.authz"""
