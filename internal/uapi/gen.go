package uapi

//go:generate ./mkuapi.sh
