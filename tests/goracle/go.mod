module regdoctor/goracle

go 1.19
