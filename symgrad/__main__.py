from symgrad.cli.app import main

main()
