build {
  sources = ["source.amazon-ebs.frankfurt", "source.amazon-ebs.ireland"]

  provisioner "shell" {
    script = "${path.root}/scripts/install-okd-prerequisites.sh"
  }

  post-processor "manifest" {
    output     = "manifest.json"
    strip_path = true
  }
}
