# Every role has exactly the permissions its component uses: no wildcard actions, writes
# only under the component's prefixes and item keys, and trust only in its own pods.
mock_provider "aws" {
  mock_data "aws_caller_identity" {
    defaults = { account_id = "123456789012" }
  }
  mock_data "aws_partition" {
    defaults = { partition = "aws" }
  }
  mock_data "aws_region" {
    defaults = { region = "eu-west-1" }
  }
  mock_resource "aws_iam_role" {
    defaults = { arn = "arn:aws:iam::123456789012:role/mock" }
  }
}

variables {
  raw_bucket_arn             = "arn:aws:s3:::raw"
  processed_bucket_arn       = "arn:aws:s3:::processed"
  bucket_kms_key_arn         = "arn:aws:kms:eu-west-1:123456789012:key/buckets"
  table_arn                  = "arn:aws:dynamodb:eu-west-1:123456789012:table/MovieEntities"
  table_kms_key_arn          = "arn:aws:kms:eu-west-1:123456789012:key/table"
  queue_arn                  = "arn:aws:sqs:eu-west-1:123456789012:cameo-uploads"
  queue_kms_key_arn          = "arn:aws:kms:eu-west-1:123456789012:key/queue"
  gallery_queue_arn          = "arn:aws:sqs:eu-west-1:123456789012:cameo-gallery"
  gallery_queue_kms_key_arn  = "arn:aws:kms:eu-west-1:123456789012:key/gallery-queue"
  curation_queue_arn         = "arn:aws:sqs:eu-west-1:123456789012:cameo-curation"
  curation_queue_kms_key_arn = "arn:aws:kms:eu-west-1:123456789012:key/curation-queue"
  api_function_name          = "cameo-api"
  cluster_name               = "cameo"
  detector_service_accounts = [
    { namespace = "media", name = "cameo-detector" },
    { namespace = "trailers", name = "cameo-detector" },
  ]
}

run "no_wildcard_actions_and_writes_only_under_prefixes" {
  assert {
    condition = alltrue(flatten([
      for role, policy in aws_iam_role_policy.this : [
        for s in jsondecode(policy.policy).Statement : [for a in s.Action : !strcontains(a, "*")]
      ]
    ]))
    error_message = "No role's policy has an action with a wildcard."
  }

  assert {
    condition = alltrue(flatten([
      for role, policy in aws_iam_role_policy.this : [
        for s in jsondecode(policy.policy).Statement : [for r in s.Resource : r != "*"]
      ]
    ]))
    error_message = "No role's policy applies to every resource."
  }

  # What each role may write in S3, and where.
  assert {
    condition = jsonencode({
      for role, policy in aws_iam_role_policy.this : role => sort(distinct(flatten([
        for s in jsondecode(policy.policy).Statement : s.Resource
        if s.Effect == "Allow" && length(setintersection(s.Action, ["s3:PutObject", "s3:AbortMultipartUpload"])) > 0
      ])))
      }) == jsonencode({
      api               = ["arn:aws:s3:::raw/gallery/.cameo/photos/*", "arn:aws:s3:::raw/videos/*"]
      "curation-worker" = ["arn:aws:s3:::processed/cache/gallery/*", "arn:aws:s3:::processed/index/unknown/*", "arn:aws:s3:::processed/results/*/exports/*", "arn:aws:s3:::processed/results/*/result.json", "arn:aws:s3:::processed/suggestions/*", "arn:aws:s3:::processed/templates/rejected/*", "arn:aws:s3:::raw/gallery/.cameo/photos/*"]
      detector          = ["arn:aws:s3:::processed/cache/*", "arn:aws:s3:::processed/candidates/*", "arn:aws:s3:::processed/index/unknown/*/added/*", "arn:aws:s3:::processed/logs/*", "arn:aws:s3:::processed/results/*", "arn:aws:s3:::processed/templates/*"]
      "gallery-checker" = ["arn:aws:s3:::processed/cache/gallery/*", "arn:aws:s3:::raw/gallery/.cameo/manifest.json"]
      ingest            = []
    })
    error_message = "The API writes only uploads under videos/ and gallery photos, the curation worker results documents, rejected examples, named photos, the index of unknown faces, its suggestions and the gallery cache, the detector only results/, logs/, cache/, candidates/, templates/ and added index segments, the gallery checker its cache and the manifest, the ingest nothing."
  }

  # What each role may delete in S3: the API a video and what was made of it, and a
  # person's photos; the detector an earlier analysis's face crops; the gallery checker
  # cached embeddings of gallery photos.
  assert {
    condition = jsonencode({
      for role, policy in aws_iam_role_policy.this : role => sort(distinct(flatten([
        for s in jsondecode(policy.policy).Statement : s.Resource
        if s.Effect == "Allow" && length(setintersection(s.Action, ["s3:DeleteObject", "s3:DeleteObjectVersion"])) > 0
      ])))
      }) == jsonencode({
      api               = ["arn:aws:s3:::processed/candidates/*", "arn:aws:s3:::processed/logs/*", "arn:aws:s3:::processed/results/*", "arn:aws:s3:::processed/templates/*", "arn:aws:s3:::raw/gallery/*", "arn:aws:s3:::raw/videos/*"]
      "curation-worker" = ["arn:aws:s3:::processed/index/unknown/*", "arn:aws:s3:::processed/suggestions/*", "arn:aws:s3:::processed/templates/rejected/*", "arn:aws:s3:::raw/gallery/.cameo/photos/*"]
      detector          = ["arn:aws:s3:::processed/results/*/faces/*"]
      "gallery-checker" = ["arn:aws:s3:::processed/cache/gallery/*"]
      ingest            = []
    })
    error_message = "Only the API erases (videos and what was made of them, people's photos), the curation worker what an undone correction taught, the index entries of erased videos and old suggestions, the detector only replaces face crops, the gallery checker only its cached embeddings."
  }

  # Face templates are biometric data: only the detector (which makes them, and enrols
  # rejected examples) and the curation worker (which makes rejected examples of them) read them.
  assert {
    condition = jsonencode(sort(distinct(flatten([
      for role, policy in aws_iam_role_policy.this : [
        for s in jsondecode(policy.policy).Statement : role
        if contains(s.Action, "s3:GetObject") && anytrue([for r in s.Resource : strcontains(r, "templates/")])
      ]
    ])))) == jsonencode(["curation-worker", "detector"])
    error_message = "Only the detector and the curation worker read the face templates."
  }

  # The index of unknown faces is biometric data too: the curation worker alone reads it.
  assert {
    condition = jsonencode(sort(distinct(flatten([
      for role, policy in aws_iam_role_policy.this : [
        for s in jsondecode(policy.policy).Statement : role
        if length(setintersection(s.Action, ["s3:GetObject", "s3:GetObjectVersion"])) > 0 && anytrue([for r in s.Resource : strcontains(r, "index/")])
      ]
    ])))) == jsonencode(["curation-worker"])
    error_message = "Only the curation worker reads the index of unknown faces."
  }

  # What each role may read in S3, and where: the API never reads a video, templates/ nor
  # cache/; it presigns GETs of people's photos (the gallery pages show them).
  assert {
    condition = jsonencode({
      for role, policy in aws_iam_role_policy.this : role => sort(distinct(flatten([
        for s in jsondecode(policy.policy).Statement : s.Resource
        if s.Effect == "Allow" && length(setintersection(s.Action, ["s3:GetObject", "s3:GetObjectVersion"])) > 0
      ])))
      }) == jsonencode({
      api               = ["arn:aws:s3:::processed/results/*", "arn:aws:s3:::processed/suggestions/*", "arn:aws:s3:::raw/gallery/*", "arn:aws:s3:::raw/videos/*"]
      "curation-worker" = ["arn:aws:s3:::processed/cache/gallery/*", "arn:aws:s3:::processed/index/unknown/*", "arn:aws:s3:::processed/results/*", "arn:aws:s3:::processed/suggestions/*", "arn:aws:s3:::processed/templates/*", "arn:aws:s3:::raw/gallery/*"]
      detector          = ["arn:aws:s3:::processed/cache/*", "arn:aws:s3:::processed/candidates/*", "arn:aws:s3:::processed/logs/*", "arn:aws:s3:::processed/results/*", "arn:aws:s3:::processed/templates/*", "arn:aws:s3:::raw/gallery/*", "arn:aws:s3:::raw/videos/*"]
      "gallery-checker" = ["arn:aws:s3:::processed/cache/gallery/*", "arn:aws:s3:::raw/gallery/*"]
      ingest            = ["arn:aws:s3:::raw/videos/*"]
    })
    error_message = "The API reads only results, the worker's suggestions, people's photos and videos (to sign playback URLs), the curation worker results, templates, the index of unknown faces, its suggestions and the gallery, the detector videos, the gallery and its own outputs, the gallery checker the gallery and its cache, the ingest videos (HEAD)."
  }

  # Which prefixes each role may list (ListBucket, ListBucketVersions), by bucket.
  assert {
    condition = jsonencode({
      for role, policy in aws_iam_role_policy.this : role => sort(distinct(flatten([
        for s in jsondecode(policy.policy).Statement : [
          for r in s.Resource : [for a in s.Action : [for p in s.Condition.StringLike["s3:prefix"] : "${a} ${r} ${p}"]]
        ] if anytrue([for a in s.Action : startswith(a, "s3:ListBucket")])
      ])))
      }) == jsonencode({
      api = sort(concat(
        [for a in ["s3:ListBucket", "s3:ListBucketVersions"] : "${a} arn:aws:s3:::raw videos/*"],
        ["s3:ListBucketVersions arn:aws:s3:::raw gallery/*"],
        flatten([for a in ["s3:ListBucket", "s3:ListBucketVersions"] : [for p in ["candidates", "logs", "results", "templates"] : "${a} arn:aws:s3:::processed ${p}/*"]]),
      ))
      "curation-worker" = [
        "s3:ListBucket arn:aws:s3:::processed index/unknown/*",
        "s3:ListBucket arn:aws:s3:::raw gallery/*",
        "s3:ListBucketVersions arn:aws:s3:::processed index/unknown/*",
        "s3:ListBucketVersions arn:aws:s3:::processed suggestions/*",
        "s3:ListBucketVersions arn:aws:s3:::processed templates/rejected/*",
        "s3:ListBucketVersions arn:aws:s3:::raw gallery/.cameo/manifest.json",
        "s3:ListBucketVersions arn:aws:s3:::raw gallery/.cameo/photos/*",
      ]
      detector = [
        "s3:ListBucket arn:aws:s3:::processed cache/*",
        "s3:ListBucket arn:aws:s3:::processed results/*",
        "s3:ListBucket arn:aws:s3:::raw gallery/*",
        "s3:ListBucketVersions arn:aws:s3:::raw gallery/.cameo/manifest.json",
      ]
      "gallery-checker" = ["s3:ListBucket arn:aws:s3:::processed cache/gallery/*", "s3:ListBucket arn:aws:s3:::raw gallery/*", "s3:ListBucketVersions arn:aws:s3:::processed cache/gallery/*"]
      ingest            = []
    })
    error_message = "Every listing is held to its prefixes: the detector lists the manifest's versions only, the API the versions of gallery photos only."
  }

  # Every table write is held to its component's item keys.
  assert {
    condition = alltrue(flatten([
      for role, policy in aws_iam_role_policy.this : [
        for s in jsondecode(policy.policy).Statement :
        try(length(s.Condition["ForAllValues:StringLike"]["dynamodb:LeadingKeys"]) > 0, false)
        if length(setintersection(s.Action, ["dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:ConditionCheckItem"])) > 0
      ]
    ]))
    error_message = "Every statement that writes the table has a dynamodb:LeadingKeys condition."
  }

  assert {
    condition = jsonencode({
      for role, policy in aws_iam_role_policy.this : role => sort(distinct(flatten([
        for s in jsondecode(policy.policy).Statement : try(s.Condition["ForAllValues:StringLike"]["dynamodb:LeadingKeys"], [])
        if length(setintersection(s.Action, ["dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:ConditionCheckItem"])) > 0
      ])))
      }) == jsonencode({
      api               = ["CURATION#*", "MOVIE#*", "PERSON#*", "PERSONNAME#*", "VIDEO#*"]
      "curation-worker" = ["CURATION#*", "MOVIE#*", "PERSON#*"]
      detector          = ["CURATION#*", "MOVIE#*"]
      "gallery-checker" = ["PERSON#*", "PERSONNAME#*"]
      ingest            = ["VIDEO#*"]
    })
    error_message = "The detector writes movie partitions (and track maps), the ingest video partitions, the gallery checker the registry's, the curation worker movie partitions, track maps and people's evidence, and the API video, registry and ledger partitions and, to erase a video, movie partitions."
  }

  # The API gets videos to sign playback URLs, in one statement granting nothing else.
  assert {
    condition = jsonencode([
      for s in jsondecode(aws_iam_role_policy.this["api"].policy).Statement : [s.Sid, s.Action]
      if contains(s.Action, "s3:GetObject") && anytrue([for r in s.Resource : strcontains(r, "videos/")])
    ]) == jsonencode([["PresignPlayback", ["s3:GetObject"]]])
    error_message = "The API gets videos only in PresignPlayback, which grants s3:GetObject alone (to sign playback URLs)."
  }

  assert {
    condition = anytrue([
      for s in jsondecode(aws_iam_role_policy.this["api"].policy).Statement :
      s.Effect == "Deny" && s.Resource == ["arn:aws:s3:::raw/gallery/.cameo/manifest.json"]
      && length(setintersection(s.Action, ["s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:DeleteObjectVersion"])) == 4
    ])
    error_message = "The API may not read, write or delete the gallery manifest, which only the gallery checker writes."
  }

  assert {
    condition = jsonencode(sort(flatten([
      for s in jsondecode(aws_iam_role_policy.this["api"].policy).Statement : s.Action if s.Sid == "EraseMovieItems"
    ]))) == jsonencode(["dynamodb:DeleteItem"])
    error_message = "The API only deletes movie items (to erase a video), never writes them."
  }

  assert {
    condition = jsonencode(sort(flatten([
      for s in jsondecode(aws_iam_role_policy.this["ingest"].policy).Statement : s.Action if anytrue([for a in s.Action : startswith(a, "sqs:")])
    ]))) == jsonencode(["sqs:DeleteMessage", "sqs:GetQueueAttributes", "sqs:ReceiveMessage"])
    error_message = "The ingest receives, deletes and counts upload events, and does nothing else with the queue."
  }

  # Who may do what with which queue.
  assert {
    condition = jsonencode({
      for role, policy in aws_iam_role_policy.this : role => sort(distinct(flatten([
        for s in jsondecode(policy.policy).Statement : [for a in s.Action : [for r in s.Resource : "${a} ${r}"]] if anytrue([for a in s.Action : startswith(a, "sqs:")])
      ])))
      }) == jsonencode({
      api = ["sqs:SendMessage arn:aws:sqs:eu-west-1:123456789012:cameo-curation", "sqs:SendMessage arn:aws:sqs:eu-west-1:123456789012:cameo-gallery", "sqs:SendMessage arn:aws:sqs:eu-west-1:123456789012:cameo-uploads"]
      "curation-worker" = concat(
        [for a in ["sqs:ChangeMessageVisibility", "sqs:DeleteMessage", "sqs:GetQueueAttributes", "sqs:ReceiveMessage"] : "${a} arn:aws:sqs:eu-west-1:123456789012:cameo-curation"],
        ["sqs:SendMessage arn:aws:sqs:eu-west-1:123456789012:cameo-gallery"],
      )
      detector = []
      "gallery-checker" = [
        for a in ["sqs:ChangeMessageVisibility", "sqs:DeleteMessage", "sqs:GetQueueAttributes", "sqs:ReceiveMessage"] : "${a} arn:aws:sqs:eu-west-1:123456789012:cameo-gallery"
      ]
      ingest = [
        for a in ["sqs:DeleteMessage", "sqs:GetQueueAttributes", "sqs:ReceiveMessage"] : "${a} arn:aws:sqs:eu-west-1:123456789012:cameo-uploads"
      ]
    })
    error_message = "The ingest consumes the upload queue, the gallery checker the gallery queue, the curation worker the curation queue (and tells the gallery checker), and the API only sends to the gallery, curation and upload queues (the last to analyse a video again)."
  }

  # An encrypted queue: its consumer decrypts, its sender encrypts, with its key.
  assert {
    condition = alltrue([
      for role in ["api", "gallery-checker"] : anytrue([
        for s in jsondecode(aws_iam_role_policy.this[role].policy).Statement :
        contains(s.Action, "kms:Decrypt") && contains(s.Resource, var.gallery_queue_kms_key_arn)
      ])
      ]) && anytrue([
      for s in jsondecode(aws_iam_role_policy.this["api"].policy).Statement :
      contains(s.Action, "kms:GenerateDataKey") && contains(s.Resource, var.gallery_queue_kms_key_arn)
    ])
    error_message = "The gallery queue's key serves its sender and its consumer."
  }

  assert {
    condition = alltrue([
      for role in ["api", "curation-worker"] : anytrue([
        for s in jsondecode(aws_iam_role_policy.this[role].policy).Statement :
        contains(s.Action, "kms:Decrypt") && contains(s.Resource, var.curation_queue_kms_key_arn)
      ])
      ]) && anytrue([
      for s in jsondecode(aws_iam_role_policy.this["api"].policy).Statement :
      contains(s.Action, "kms:GenerateDataKey") && contains(s.Resource, var.curation_queue_kms_key_arn)
    ])
    error_message = "The curation queue's key serves its sender and its consumer."
  }

  assert {
    condition = alltrue([
      for action in ["kms:Decrypt", "kms:GenerateDataKey"] : anytrue([
        for s in jsondecode(aws_iam_role_policy.this["api"].policy).Statement :
        contains(s.Action, action) && contains(s.Resource, var.queue_kms_key_arn)
      ])
    ])
    error_message = "The API encrypts what it sends to the upload queue with the queue's key."
  }

  # The registry's people are listed through byEntityType, and by no other index.
  assert {
    condition = jsonencode(sort(flatten([
      for s in jsondecode(aws_iam_role_policy.this["gallery-checker"].policy).Statement : [for r in s.Resource : r if strcontains(r, "/index/")]
    ]))) == jsonencode(["arn:aws:dynamodb:eu-west-1:123456789012:table/MovieEntities/index/byEntityType"])
    error_message = "The gallery checker queries the byEntityType index only."
  }
}

run "pod_identity_trusts_this_clusters_agent" {
  assert {
    condition = alltrue([
      for role in ["detector", "ingest", "gallery-checker", "curation-worker"] :
      jsondecode(aws_iam_role.this[role].assume_role_policy).Statement[0].Principal.Service == "pods.eks.amazonaws.com"
      && jsondecode(aws_iam_role.this[role].assume_role_policy).Statement[0].Condition.ArnEquals["aws:SourceArn"] == "arn:aws:eks:eu-west-1:123456789012:cluster/cameo"
    ])
    error_message = "Pod roles trust only the Pod Identity agent acting for this cluster."
  }

  assert {
    condition     = jsondecode(aws_iam_role.this["api"].assume_role_policy).Statement[0].Principal.Service == "lambda.amazonaws.com"
    error_message = "The API role trusts Lambda only."
  }

  assert {
    condition = jsonencode(sort(keys(aws_eks_pod_identity_association.this))) == jsonencode([
      "curation-worker/cameo-system/cameo-curation-worker",
      "detector/media/cameo-detector",
      "detector/trailers/cameo-detector",
      "gallery-checker/cameo-system/cameo-gallery-checker",
      "ingest/cameo-system/cameo-ingest",
    ]) && alltrue([for key, a in aws_eks_pod_identity_association.this : "${split("/", key)[1]}/${split("/", key)[2]}" == "${a.namespace}/${a.service_account}"])
    error_message = "Each detector ServiceAccount (one per watched namespace), the ingest's, the gallery checker's and the curation worker's get their role, and nothing else."
  }
}

run "irsa_trusts_exactly_the_service_accounts" {
  variables {
    binding           = "irsa"
    oidc_provider_arn = "arn:aws:iam::123456789012:oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/ABC"
  }

  assert {
    condition = jsonencode(jsondecode(aws_iam_role.this["detector"].assume_role_policy).Statement[0].Condition.StringEquals["oidc.eks.eu-west-1.amazonaws.com/id/ABC:sub"]) == jsonencode([
      "system:serviceaccount:media:cameo-detector",
      "system:serviceaccount:trailers:cameo-detector",
    ])
    error_message = "The detector role trusts tokens of its ServiceAccounts only."
  }

  assert {
    condition     = jsonencode(jsondecode(aws_iam_role.this["gallery-checker"].assume_role_policy).Statement[0].Condition.StringEquals["oidc.eks.eu-west-1.amazonaws.com/id/ABC:sub"]) == jsonencode(["system:serviceaccount:cameo-system:cameo-gallery-checker"])
    error_message = "The gallery checker role trusts tokens of its ServiceAccount only."
  }

  assert {
    condition     = jsonencode(jsondecode(aws_iam_role.this["curation-worker"].assume_role_policy).Statement[0].Condition.StringEquals["oidc.eks.eu-west-1.amazonaws.com/id/ABC:sub"]) == jsonencode(["system:serviceaccount:cameo-system:cameo-curation-worker"])
    error_message = "The curation worker role trusts tokens of its ServiceAccount only."
  }

  assert {
    condition     = length(aws_eks_pod_identity_association.this) == 0
    error_message = "No Pod Identity associations with IRSA."
  }

  assert {
    condition     = output.service_account_annotations.ingest["eks.amazonaws.com/role-arn"] == aws_iam_role.this["ingest"].arn
    error_message = "With IRSA the chart gets the role annotation."
  }
}

run "refuses_an_unknown_binding" {
  command = plan

  variables {
    binding = "static-keys"
  }

  expect_failures = [var.binding]
}

run "irsa_needs_the_oidc_provider" {
  command = plan

  variables {
    binding = "irsa"
  }

  expect_failures = [var.oidc_provider_arn]
}
