from kosodate.cli import main

main()
