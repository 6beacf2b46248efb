#!/usr/bin/env bash
# Packages every OKD 3.11 node needs before openshift-ansible runs.
set -euo pipefail

sudo yum -y install wget git net-tools yum-utils bind-utils iptables-services \
  bridge-utils bash-completion kexec-tools sos psacct NetworkManager
sudo yum -y install docker-1.13.1
sudo rpm -V docker-1.13.1
sudo systemctl enable docker NetworkManager
sudo yum -y install python-pip
sudo pip install ansible==2.6.20
