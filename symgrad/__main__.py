from symgrad.cli import main

main()
