"""bridge.verify"""
