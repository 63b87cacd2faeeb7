"""bridge.api"""
