from regdoctor.cli import main

main()
