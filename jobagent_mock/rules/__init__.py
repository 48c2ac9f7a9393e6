"""STAR's business rules, each naming its fejlkode, and the scenarios that script them."""
