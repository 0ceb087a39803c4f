"""`python -m convcost` is the `convcost` command."""

from convcost.cli import main

main()
