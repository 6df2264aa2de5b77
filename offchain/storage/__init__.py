"""Evidence store: canonical JSON evidence objects, addressed by the CID a real IPFS node computes for them."""
