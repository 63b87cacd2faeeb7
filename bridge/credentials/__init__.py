"""bridge.credentials"""
