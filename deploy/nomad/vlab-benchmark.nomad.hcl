# One vlab benchmark as a Nomad batch job (docs/nomad.md).
#
# Nomad places a job before it reads the meta a dispatch brings, so a
# constraint cannot name the target a dispatch asks for
# (hashicorp/nomad#5764). The lab therefore registers this parameterized
# job once per target, which fixes the target, its image and its devices:
#
#   nomad job run -var target=nucleo-l4r5zi -var 'devices=["/dev/bus/usb"]' \
#     deploy/nomad/vlab-benchmark.nomad.hcl
#
# A Linux board reached over SSH needs files instead of devices:
#
#   nomad job run -var target=rpi5 \
#     -var 'volumes=["/srv/lab/boards/rpi5:/opt/vlab/boards/rpi5:ro"]' \
#     deploy/nomad/vlab-benchmark.nomad.hcl
#
# and the API dispatches one benchmark with the request in meta:
#
#   nomad job dispatch -meta model=kws-20261127T1200.tflite -meta engine=micro \
#     -meta benchmark_type=TYPE1 -meta nb_inference=100 -meta job_id=j1 \
#     -meta files_url='https://api.lab/files/j1/job.tar.gz?expires=...&sig=...' \
#     vlab-benchmark-nucleo-l4r5zi
#
# `files_url` is a short-lived signed URL the API makes for this job: a
# tar.gz of the model, dataset, parameters file and job.env (the API's
# address and the job's token), so no token sits in the job's meta. Nodes advertise
# their targets in client meta: `vlab nomad client-config` prints that
# block from the board definitions.

variable "target" {
  type        = string
  description = "The target (board name, or host) this registration serves."
}

variable "image" {
  type        = string
  default     = "vlab:latest"
  description = "The pipeline container (deploy/docker/Dockerfile)."
}

variable "devices" {
  type        = list(string)
  default     = []
  description = "Host devices the target needs in the container: its probe's USB bus, its serial port."
}

variable "volumes" {
  type        = list(string)
  default     = []
  description = "Host files the target needs in the container, read-only (host:container:ro): a Linux board's folder, SSH key and known_hosts, and vlab's build for its architecture. `vlab nomad client-config` lists them per target; the client's docker plugin needs volumes enabled."
}

variable "datacenters" {
  type    = list(string)
  default = ["*"]
}

job "vlab-benchmark" {
  id          = "vlab-benchmark-${var.target}"
  type        = "batch"
  datacenters = var.datacenters

  parameterized {
    payload       = "forbidden"
    meta_required = ["model", "files_url", "engine", "benchmark_type", "job_id"]
    meta_optional = ["nb_inference", "dataset", "parameters"]
  }

  meta {
    target         = var.target
    model          = ""
    files_url      = ""
    engine         = "micro"
    benchmark_type = "TYPE1"
    nb_inference   = "100"
    dataset        = ""
    parameters     = ""
    job_id         = ""
  }

  # Only nodes whose client meta lists this target.
  constraint {
    attribute = "${meta.vlab_targets}"
    operator  = "set_contains"
    value     = var.target
  }

  group "benchmark" {
    count = 1

    # A failed benchmark is not retried in place: its error.log says why.
    restart {
      attempts = 0
      mode     = "fail"
    }

    # A lost node (or a board that vanished) is worth another host.
    reschedule {
      attempts       = 2
      interval       = "1h"
      delay          = "30s"
      delay_function = "exponential"
      max_delay      = "5m"
      unlimited      = false
    }

    task "vlab" {
      driver = "docker"

      config {
        image = var.image
        args  = ["job"]
        devices = [
          for path in var.devices : {
            host_path      = path
            container_path = path
          }
        ]
        volumes = var.volumes
      }

      # The job's files from the API into the work folder: a tar.gz
      # (`.../job.tar.gz?...`) of the model, the dataset and parameters file
      # when there are any, and job.env, which Nomad unpacks.
      artifact {
        source      = "${NOMAD_META_files_url}"
        destination = "local/"
        mode        = "any"
      }

      env {
        TARGET              = "${NOMAD_META_target}"
        RUNTIME             = "${NOMAD_META_engine}"
        BENCHMARK_TYPE      = "${NOMAD_META_benchmark_type}"
        NB_INFERENCE        = "${NOMAD_META_nb_inference}"
        MODEL_FILENAME      = "${NOMAD_META_model}"
        DATASET_FILENAME    = "${NOMAD_META_dataset}"
        PARAMETERS_FILENAME = "${NOMAD_META_parameters}"
        VLAB_JOB_ID         = "${NOMAD_META_job_id}"
        VLAB_WORKDIR        = "${NOMAD_TASK_DIR}"
      }

      # The API's address and this job's own token come in the files
      # archive (job.env), never in the job's meta, which anyone who can
      # read the job sees. The token may write this job's artifacts only.
      template {
        source      = "local/job.env"
        destination = "secrets/api.env"
        env         = true
      }

      resources {
        cpu    = 2000
        memory = 2048
      }

      kill_timeout = "30s"
    }
  }
}
