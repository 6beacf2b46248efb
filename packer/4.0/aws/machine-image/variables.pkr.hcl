// The same inputs as the JSON templates: credentials from the environment
// (TF_VAR_*, as Terraform reads them), hidden in Packer's output.
variable "aws_access_key" {
  type      = string
  default   = env("TF_VAR_aws_access_key")
  sensitive = true
}

variable "aws_secret_key" {
  type      = string
  default   = env("TF_VAR_aws_secret_key")
  sensitive = true
}

variable "instance_type" {
  type    = string
  default = "t2.micro"
}

variable "image_name" {
  type    = string
  default = "os40-machine-image"
}

variable "image_description" {
  type    = string
  default = "CentOS Linux 7 x86_64 HVM EBS for OKD 4.0"
}
