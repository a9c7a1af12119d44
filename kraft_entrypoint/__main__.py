from kraft_entrypoint.cli import main

main()
