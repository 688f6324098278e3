from regdoctor.cli import run

run()
