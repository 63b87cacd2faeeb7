"""bridge.query"""
