"""RareBridge: peer-delivered psychosocial support for people with rare diseases."""
