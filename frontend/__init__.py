"""The Streamlit dapp for partners and auditors: reads the chain and the API, signs the partner's own
transactions with their keystore (never sent anywhere). `streamlit run frontend/app.py` (see README)."""
