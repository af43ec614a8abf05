"""Studies: several runs that together answer a question, with a summary across them."""
