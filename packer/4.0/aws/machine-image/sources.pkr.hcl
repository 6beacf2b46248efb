// OKD 4.0 base image for AWS, built in Frankfurt and Ireland: one source
// per region.
source "amazon-ebs" "frankfurt" {
  access_key = var.aws_access_key
  secret_key = var.aws_secret_key
  region     = "eu-central-1"
  source_ami_filter {
    filters = {
      name                = "CentOS Linux 7 x86_64 HVM EBS *"
      virtualization-type = "hvm"
      root-device-type    = "ebs"
    }
    owners      = ["679593333241"]
    most_recent = true
  }
  instance_type   = var.instance_type
  ssh_username    = "centos"
  ami_name        = "${var.image_name}-${formatdate("YYYYMMDDhhmmss", timestamp())}"
  ami_description = var.image_description
}

source "amazon-ebs" "ireland" {
  access_key = var.aws_access_key
  secret_key = var.aws_secret_key
  region     = "eu-west-1"
  source_ami_filter {
    filters = {
      name                = "CentOS Linux 7 x86_64 HVM EBS *"
      virtualization-type = "hvm"
      root-device-type    = "ebs"
    }
    owners      = ["679593333241"]
    most_recent = true
  }
  instance_type   = var.instance_type
  ssh_username    = "centos"
  ami_name        = "${var.image_name}-${formatdate("YYYYMMDDhhmmss", timestamp())}"
  ami_description = var.image_description
}
