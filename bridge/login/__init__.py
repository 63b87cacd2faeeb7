"""bridge.login"""
