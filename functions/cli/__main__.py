from functions.cli.main import main

main()
