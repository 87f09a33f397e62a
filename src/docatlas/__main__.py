from docatlas.cli import run

run()
