"""The finance dashboard (Streamlit): `recon dashboard` serves app.py; data.py reads the snapshot."""
