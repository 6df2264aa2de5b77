"""Evidence store: canonical JSON evidence objects, addressed by the CIDs a real IPFS node computes."""
