# One role per component with exactly the calls it makes (README: "Cloud permissions"),
# bound to its ServiceAccounts by EKS Pod Identity or IRSA. The operator has no role: it
# only talks to the Kubernetes API.

data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}
data "aws_region" "current" {}

locals {
  account_id  = data.aws_caller_identity.current.account_id
  partition   = data.aws_partition.current.partition
  cluster_arn = var.cluster_name == null ? null : "arn:${local.partition}:eks:${data.aws_region.current.region}:${local.account_id}:cluster/${var.cluster_name}"
  oidc_issuer = var.oidc_provider_arn == null ? null : replace(var.oidc_provider_arn, "/^arn:[^:]+:iam::[0-9]+:oidc-provider\\//", "")

  pod_roles = {
    detector          = var.detector_service_accounts
    ingest            = [var.ingest_service_account]
    "gallery-checker" = [var.gallery_checker_service_account]
    "curation-worker" = [var.curation_worker_service_account]
  }
  associations = var.binding == "pod_identity" ? {
    for pair in flatten([
      for role, accounts in local.pod_roles : [
        for sa in accounts : { key = "${role}/${sa.namespace}/${sa.name}", role = role, namespace = sa.namespace, name = sa.name }
      ]
    ]) : pair.key => pair
  } : {}
}

# Policies are built here rather than by aws_iam_policy_document, so a plan (and `tofu
# test` with a mock provider) shows them whole.
locals {
  # Who may assume a pod role: the Pod Identity agent for this account's cluster.
  pod_identity_trust = {
    Effect    = "Allow"
    Principal = { Service = "pods.eks.amazonaws.com" }
    Action    = ["sts:AssumeRole", "sts:TagSession"]
    Condition = merge(
      { StringEquals = { "aws:SourceAccount" = local.account_id } },
      local.cluster_arn == null ? {} : { ArnEquals = { "aws:SourceArn" = local.cluster_arn } },
    )
  }
  # binding = none: only the account's administrators, who attach their own trust.
  administrators_trust = {
    Effect    = "Allow"
    Principal = { AWS = "arn:${local.partition}:iam::${local.account_id}:root" }
    Action    = "sts:AssumeRole"
  }

  lambda_trust = {
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { Service = "lambda.amazonaws.com" }
      Action    = "sts:AssumeRole"
      Condition = { StringEquals = { "aws:SourceAccount" = local.account_id } }
    }]
  }

  kms_use = ["kms:Decrypt", "kms:GenerateDataKey"]

  # Where the gallery's own files live in the raw bucket: the photos given through the API
  # and the manifest the gallery checker writes (the bucket is versioned).
  photos   = "gallery/.cameo/photos/"
  manifest = "gallery/.cameo/manifest.json"
  # The index of unknown faces (biometric data) in the processed bucket.
  unknown_index = "index/unknown/"
  # The curation worker's suggestions for naming, surveyed from it (scores and ids only).
  suggestions = "suggestions/"

  # The detector: reads the video and the gallery (the manifest at the version its VideoJob
  # pinned, the photos it lists and the rejected examples of its people, under
  # templates/rejected/), writes results (with their face crops), logs, the embedding
  # cache, the shards' candidate crops (expired by a lifecycle rule) and the face templates
  # (biometric data), adds each analysis's unknown faces to the index late binding scans
  # (an added segment, never read back), removes an earlier analysis's crops, and replaces
  # a movie's items in the table; its merge replays the corrections people made to an earlier analysis (the
  # ledger, read; the track map, written; earlier templates, read) and rewrites the items
  # as the curation worker would.
  detector = [
    { Sid = "ReadVideosAndGallery", Action = ["s3:GetObject"], Resource = ["${var.raw_bucket_arn}/videos/*", "${var.raw_bucket_arn}/gallery/*"] },
    { Sid = "ReadPinnedGallery", Action = ["s3:GetObjectVersion"], Resource = ["${var.raw_bucket_arn}/gallery/*"] },
    { Sid = "ListGallery", Action = ["s3:ListBucket"], Resource = [var.raw_bucket_arn], Condition = { StringLike = { "s3:prefix" = ["gallery/*"] } } },
    { Sid = "ListManifestVersions", Action = ["s3:ListBucketVersions"], Resource = [var.raw_bucket_arn], Condition = { StringLike = { "s3:prefix" = [local.manifest] } } },
    {
      Sid      = "WriteAndReadResults"
      Action   = ["s3:GetObject", "s3:PutObject"]
      Resource = ["${var.processed_bucket_arn}/results/*", "${var.processed_bucket_arn}/logs/*", "${var.processed_bucket_arn}/cache/*", "${var.processed_bucket_arn}/candidates/*"]
    },
    { Sid = "WriteTemplates", Action = ["s3:PutObject"], Resource = ["${var.processed_bucket_arn}/templates/*"] },
    { Sid = "ReadTemplates", Action = ["s3:GetObject"], Resource = ["${var.processed_bucket_arn}/templates/*"] },
    { Sid = "AddUnknownFaces", Action = ["s3:PutObject"], Resource = ["${var.processed_bucket_arn}/${local.unknown_index}*/added/*"] },
    { Sid = "ReplaceFaceCrops", Action = ["s3:DeleteObject"], Resource = ["${var.processed_bucket_arn}/results/*/faces/*"] },
    { Sid = "ListResultsAndCache", Action = ["s3:ListBucket"], Resource = [var.processed_bucket_arn], Condition = { StringLike = { "s3:prefix" = ["results/*", "cache/*"] } } },
    {
      Sid       = "MovieItems"
      Action    = ["dynamodb:PutItem", "dynamodb:DeleteItem", "dynamodb:UpdateItem", "dynamodb:Query"]
      Resource  = [var.table_arn]
      Condition = { "ForAllValues:StringLike" = { "dynamodb:LeadingKeys" = ["MOVIE#*"] } }
    },
    {
      Sid       = "ReplayCorrections"
      Action    = ["dynamodb:GetItem", "dynamodb:Query", "dynamodb:PutItem"]
      Resource  = [var.table_arn]
      Condition = { "ForAllValues:StringLike" = { "dynamodb:LeadingKeys" = ["CURATION#*"] } }
    },
    { Sid = "UseKeys", Action = local.kms_use, Resource = [var.bucket_kms_key_arn, var.table_kms_key_arn] },
  ]

  # The ingest: receives and deletes upload events, HEADs the video for its metadata, and
  # writes each video's processing state.
  ingest = [
    { Sid = "ConsumeUploadEvents", Action = ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"], Resource = [var.queue_arn] },
    { Sid = "HeadVideos", Action = ["s3:GetObject"], Resource = ["${var.raw_bucket_arn}/videos/*"] },
    {
      Sid       = "VideoStateItems"
      Action    = ["dynamodb:PutItem"]
      Resource  = [var.table_arn]
      Condition = { "ForAllValues:StringLike" = { "dynamodb:LeadingKeys" = ["VIDEO#*"] } }
    },
    { Sid = "DecryptEventsVideosAndItems", Action = ["kms:Decrypt"], Resource = [var.queue_kms_key_arn, var.bucket_kms_key_arn, var.table_kms_key_arn] },
    { Sid = "EncryptItems", Action = ["kms:GenerateDataKey"], Resource = [var.table_kms_key_arn] },
  ]

  # The gallery checker: consumes the gallery queue (photos put through the API, the API's
  # rebuild and erase requests), reads the gallery (photos, and folders filled by hand,
  # which it imports), keeps the embedding cache of gallery photos (and erases a person's),
  # writes each photo's verdict to the registry's items and rewrites the manifest, the one
  # writer of it.
  gallery_checker = [
    {
      Sid      = "ConsumeGalleryEvents"
      Action   = ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility", "sqs:GetQueueAttributes"]
      Resource = [var.gallery_queue_arn]
    },
    { Sid = "ReadGallery", Action = ["s3:GetObject"], Resource = ["${var.raw_bucket_arn}/gallery/*"] },
    { Sid = "ListGallery", Action = ["s3:ListBucket"], Resource = [var.raw_bucket_arn], Condition = { StringLike = { "s3:prefix" = ["gallery/*"] } } },
    { Sid = "WriteManifest", Action = ["s3:PutObject"], Resource = ["${var.raw_bucket_arn}/${local.manifest}"] },
    # Erasing a photo's cached verdicts erases every version of them.
    { Sid = "GalleryCache", Action = ["s3:GetObject", "s3:PutObject", "s3:DeleteObjectVersion"], Resource = ["${var.processed_bucket_arn}/cache/gallery/*"] },
    { Sid = "ListGalleryCache", Action = ["s3:ListBucket", "s3:ListBucketVersions"], Resource = [var.processed_bucket_arn], Condition = { StringLike = { "s3:prefix" = ["cache/gallery/*"] } } },
    {
      Sid       = "PersonItems"
      Action    = ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:Query"]
      Resource  = [var.table_arn]
      Condition = { "ForAllValues:StringLike" = { "dynamodb:LeadingKeys" = local.person_keys } }
    },
    { Sid = "ListPeople", Action = ["dynamodb:Query"], Resource = ["${var.table_arn}/index/byEntityType"] },
    { Sid = "DecryptEvents", Action = ["kms:Decrypt"], Resource = [var.gallery_queue_kms_key_arn] },
    { Sid = "UseKeys", Action = local.kms_use, Resource = [var.bucket_kms_key_arn, var.table_kms_key_arn] },
  ]
  # The registry's partitions: a person (with their photos) and the claim on a name.
  person_keys = ["PERSON#*", "PERSONNAME#*"]

  # The curation worker: consumes the curation queue (the API's word that a movie's
  # corrections changed), replays the ledger on the analysis and rewrites the results
  # document and the movie's items; keeps what corrections teach the gallery: rejected
  # examples (made from the video's templates) and the crops a named cluster gives its
  # person as photos, each erased with every version when undone; tells the gallery
  # checker. Late binding: it scans, packs and prunes the index of unknown faces (the one
  # reader of it, and the one that erases an erased video's entries), enrols the gallery
  # (the newest manifest, its photos' cached embeddings) and records its relabels in the
  # ledger of each video they name. When the queue is quiet, it surveys the index against
  # the gallery and writes its suggestions for naming. It reads no video.
  curation_worker = [
    {
      Sid      = "ConsumeCorrections"
      Action   = ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility", "sqs:GetQueueAttributes"]
      Resource = [var.curation_queue_arn]
    },
    { Sid = "ReadResultsAndTemplates", Action = ["s3:GetObject"], Resource = ["${var.processed_bucket_arn}/results/*", "${var.processed_bucket_arn}/templates/*"] },
    { Sid = "WriteCuratedResults", Action = ["s3:PutObject"], Resource = ["${var.processed_bucket_arn}/results/*/result.json", "${var.processed_bucket_arn}/results/*/exports/*"] },
    { Sid = "KeepRejectedExamples", Action = ["s3:PutObject", "s3:DeleteObject", "s3:DeleteObjectVersion"], Resource = ["${var.processed_bucket_arn}/templates/rejected/*"] },
    { Sid = "ListRejectedExamples", Action = ["s3:ListBucketVersions"], Resource = [var.processed_bucket_arn], Condition = { StringLike = { "s3:prefix" = ["templates/rejected/*"] } } },
    { Sid = "GiveNamedPhotos", Action = ["s3:PutObject", "s3:DeleteObject", "s3:DeleteObjectVersion"], Resource = ["${var.raw_bucket_arn}/${local.photos}*"] },
    { Sid = "ListNamedPhotos", Action = ["s3:ListBucketVersions"], Resource = [var.raw_bucket_arn], Condition = { StringLike = { "s3:prefix" = ["${local.photos}*"] } } },
    # What leaves the index is erased, every version (an erased video's faces too).
    { Sid = "KeepUnknownIndex", Action = ["s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:DeleteObjectVersion"], Resource = ["${var.processed_bucket_arn}/${local.unknown_index}*"] },
    { Sid = "ListUnknownIndex", Action = ["s3:ListBucket", "s3:ListBucketVersions"], Resource = [var.processed_bucket_arn], Condition = { StringLike = { "s3:prefix" = ["${local.unknown_index}*"] } } },
    { Sid = "WriteSuggestions", Action = ["s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:DeleteObjectVersion"], Resource = ["${var.processed_bucket_arn}/${local.suggestions}*"] },
    { Sid = "ListSuggestionVersions", Action = ["s3:ListBucketVersions"], Resource = [var.processed_bucket_arn], Condition = { StringLike = { "s3:prefix" = ["${local.suggestions}*"] } } },
    { Sid = "EnrolGallery", Action = ["s3:GetObject", "s3:GetObjectVersion"], Resource = ["${var.raw_bucket_arn}/gallery/*"] },
    { Sid = "ListGallery", Action = ["s3:ListBucket"], Resource = [var.raw_bucket_arn], Condition = { StringLike = { "s3:prefix" = ["gallery/*"] } } },
    { Sid = "ListManifestVersions", Action = ["s3:ListBucketVersions"], Resource = [var.raw_bucket_arn], Condition = { StringLike = { "s3:prefix" = [local.manifest] } } },
    { Sid = "GalleryCache", Action = ["s3:GetObject", "s3:PutObject"], Resource = ["${var.processed_bucket_arn}/cache/gallery/*"] },
    {
      Sid       = "RewriteMovieItems"
      Action    = ["dynamodb:Query", "dynamodb:PutItem", "dynamodb:DeleteItem", "dynamodb:UpdateItem"]
      Resource  = [var.table_arn]
      Condition = { "ForAllValues:StringLike" = { "dynamodb:LeadingKeys" = ["MOVIE#*"] } }
    },
    {
      Sid       = "ReadLedger"
      Action    = ["dynamodb:GetItem", "dynamodb:Query", "dynamodb:PutItem"]
      Resource  = [var.table_arn]
      Condition = { "ForAllValues:StringLike" = { "dynamodb:LeadingKeys" = ["CURATION#*"] } }
    },
    {
      Sid       = "RegistryEvidence"
      Action    = ["dynamodb:Query", "dynamodb:PutItem", "dynamodb:DeleteItem", "dynamodb:UpdateItem"]
      Resource  = [var.table_arn]
      Condition = { "ForAllValues:StringLike" = { "dynamodb:LeadingKeys" = ["PERSON#*"] } }
    },
    { Sid = "TellGalleryChecker", Action = ["sqs:SendMessage"], Resource = [var.gallery_queue_arn] },
    { Sid = "DecryptCorrections", Action = ["kms:Decrypt"], Resource = [var.curation_queue_kms_key_arn] },
    { Sid = "UseKeys", Action = local.kms_use, Resource = [var.bucket_kms_key_arn, var.table_kms_key_arn, var.gallery_queue_kms_key_arn] },
  ]

  # The API's Lambda: presigns uploads under videos/ and photo uploads under the gallery's
  # photos, reads results (and presigns their face crops) and the worker's suggestions, queries the table, keeps its own
  # upload records, the registry of people and the curation ledger, tells the gallery
  # checker of every change to people and the curation worker of every correction, and
  # erases a video with everything made of it (its ledger too), or a person with their
  # photos and rejected examples, every version (README: "The API"). It never reads templates/ nor cache/; its GetObject on people's
  # photos only signs the URLs that show them, and on videos the playback URLs.
  erasable = ["results", "candidates", "logs", "templates"]
  api = [
    { Sid = "PresignUploads", Action = ["s3:PutObject", "s3:ListMultipartUploadParts", "s3:AbortMultipartUpload", "s3:DeleteObject", "s3:DeleteObjectVersion"], Resource = ["${var.raw_bucket_arn}/videos/*"] },
    { Sid = "ListUploads", Action = ["s3:ListBucket", "s3:ListBucketVersions"], Resource = [var.raw_bucket_arn], Condition = { StringLike = { "s3:prefix" = ["videos/*"] } } },
    { Sid = "PresignPhotoUploads", Action = ["s3:PutObject"], Resource = ["${var.raw_bucket_arn}/${local.photos}*"] },
    # Only to sign the playback URLs a browser's <video> needs (it cannot send a token);
    # the API itself never reads a video.
    { Sid = "PresignPlayback", Action = ["s3:GetObject"], Resource = ["${var.raw_bucket_arn}/videos/*"] },
    # People's photos, uploaded or imported from folders filled by hand: shown (presigned
    # GETs) and erased with every version; never the manifest, which the checker alone keeps.
    { Sid = "ShowAndErasePhotos", Action = ["s3:GetObject", "s3:DeleteObject", "s3:DeleteObjectVersion"], Resource = ["${var.raw_bucket_arn}/gallery/*"] },
    { Sid = "ListPhotoVersions", Action = ["s3:ListBucketVersions"], Resource = [var.raw_bucket_arn], Condition = { StringLike = { "s3:prefix" = ["gallery/*"] } } },
    { Sid = "NotTheManifest", Effect = "Deny", Action = ["s3:GetObject", "s3:GetObjectVersion", "s3:PutObject", "s3:DeleteObject", "s3:DeleteObjectVersion"], Resource = ["${var.raw_bucket_arn}/${local.manifest}"] },
    { Sid = "ReadResults", Action = ["s3:GetObject"], Resource = ["${var.processed_bucket_arn}/results/*", "${var.processed_bucket_arn}/${local.suggestions}*"] },
    { Sid = "EraseVideosResults", Action = ["s3:DeleteObject", "s3:DeleteObjectVersion"], Resource = [for p in local.erasable : "${var.processed_bucket_arn}/${p}/*"] },
    { Sid = "ListWhatToErase", Action = ["s3:ListBucket", "s3:ListBucketVersions"], Resource = [var.processed_bucket_arn], Condition = { StringLike = { "s3:prefix" = [for p in local.erasable : "${p}/*"] } } },
    { Sid = "QueryTable", Action = ["dynamodb:Query"], Resource = [var.table_arn, "${var.table_arn}/index/*"] },
    {
      Sid       = "UploadRecords"
      Action    = ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"]
      Resource  = [var.table_arn]
      Condition = { "ForAllValues:StringLike" = { "dynamodb:LeadingKeys" = ["VIDEO#*"] } }
    },
    {
      Sid       = "EraseMovieItems"
      Action    = ["dynamodb:DeleteItem"]
      Resource  = [var.table_arn]
      Condition = { "ForAllValues:StringLike" = { "dynamodb:LeadingKeys" = ["MOVIE#*"] } }
    },
    # People are written in transactions (TransactWriteItems is authorized item by item:
    # Put, Update, Delete and ConditionCheckItem). Listing them is QueryTable's.
    {
      Sid       = "PersonItems"
      Action    = ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:ConditionCheckItem"]
      Resource  = [var.table_arn]
      Condition = { "ForAllValues:StringLike" = { "dynamodb:LeadingKeys" = local.person_keys } }
    },
    # Corrections are recorded in one transaction (the head, the action, the undone
    # action's mark, people's pointers); erasing a video erases them.
    {
      Sid       = "CurationLedger"
      Action    = ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:DeleteItem", "dynamodb:ConditionCheckItem"]
      Resource  = [var.table_arn]
      Condition = { "ForAllValues:StringLike" = { "dynamodb:LeadingKeys" = ["CURATION#*"] } }
    },
    # A sender to an encrypted queue uses its key (hence the queues' keys in UseKeys).
    { Sid = "TellGalleryChecker", Action = ["sqs:SendMessage"], Resource = [var.gallery_queue_arn] },
    { Sid = "TellCurationWorker", Action = ["sqs:SendMessage"], Resource = [var.curation_queue_arn] },
    # POST /videos/{id}/analyse sends an upload's event to the ingest again.
    { Sid = "AnalyseAgain", Action = ["sqs:SendMessage"], Resource = [var.queue_arn] },
    { Sid = "UseKeys", Action = local.kms_use, Resource = [var.bucket_kms_key_arn, var.table_kms_key_arn, var.gallery_queue_kms_key_arn, var.curation_queue_kms_key_arn, var.queue_kms_key_arn] },
    {
      Sid      = "OwnLogs"
      Action   = ["logs:CreateLogStream", "logs:PutLogEvents"]
      Resource = ["arn:${local.partition}:logs:${data.aws_region.current.region}:${local.account_id}:log-group:/aws/lambda/${var.api_function_name}:*"]
    },
  ]

  policies = {
    for role, statements in {
      detector          = local.detector
      ingest            = local.ingest
      "gallery-checker" = local.gallery_checker
      "curation-worker" = local.curation_worker
      api               = local.api
    } :
    role => jsonencode({ Version = "2012-10-17", Statement = [for s in statements : merge({ Effect = "Allow" }, s)] })
  }

  trusts = merge(
    {
      for role, accounts in local.pod_roles : role => jsonencode({
        Version = "2012-10-17"
        Statement = [{
          pod_identity = local.pod_identity_trust
          # IRSA: the cluster's OIDC tokens of exactly these ServiceAccounts.
          irsa = {
            Effect    = "Allow"
            Principal = { Federated = coalesce(var.oidc_provider_arn, "-") }
            Action    = "sts:AssumeRoleWithWebIdentity"
            Condition = {
              StringEquals = {
                "${coalesce(local.oidc_issuer, "-")}:aud" = "sts.amazonaws.com"
                "${coalesce(local.oidc_issuer, "-")}:sub" = [for sa in accounts : "system:serviceaccount:${sa.namespace}:${sa.name}"]
              }
            }
          }
          none = local.administrators_trust
        }[var.binding]]
      })
    },
    { api = jsonencode(local.lambda_trust) },
  )
}

resource "aws_iam_role" "this" {
  for_each = local.policies

  name                 = "${var.name_prefix}-${each.key}"
  description          = "cameo ${each.key}"
  assume_role_policy   = local.trusts[each.key]
  max_session_duration = 3600
  tags                 = var.tags
}

resource "aws_iam_role_policy" "this" {
  for_each = local.policies

  name   = "${var.name_prefix}-${each.key}"
  role   = aws_iam_role.this[each.key].id
  policy = each.value
}

resource "aws_eks_pod_identity_association" "this" {
  for_each = local.associations

  cluster_name    = var.cluster_name
  namespace       = each.value.namespace
  service_account = each.value.name
  role_arn        = aws_iam_role.this[each.value.role].arn
  tags            = var.tags
}
