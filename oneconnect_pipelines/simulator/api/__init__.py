"""The OneConnect API, one module per section of the contract."""
