"""What every room stands on: the error table, the contract, fixtures, the clock, CPR, JSON."""
