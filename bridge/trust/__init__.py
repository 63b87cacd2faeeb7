"""bridge.trust"""
