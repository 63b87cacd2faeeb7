"""bridge.mapping"""
