package client

// CardPattern is where DRM card nodes (primary nodes, which do
// modesetting) are: render nodes are /dev/dri/renderD*.
const CardPattern = "/dev/dri/card*"
