from deskhand.cli import main

main()
