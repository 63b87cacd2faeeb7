"""bridge.client"""
