# MovieEntities, built from schemas/movie-entities.table.json: the detector, the API,
# the ingest and their tests read the same file, so the table cannot drift from the code.

locals {
  schema = jsondecode(file(coalesce(var.schema_file, "${path.module}/../../../schemas/movie-entities.table.json")))
}

data "aws_caller_identity" "current" {}

resource "aws_kms_key" "table" {
  description             = "cameo table ${coalesce(var.name, local.schema.tableName)}"
  enable_key_rotation     = true
  deletion_window_in_days = 30
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid       = "AccountAdministers"
      Effect    = "Allow"
      Principal = { AWS = "arn:aws:iam::${data.aws_caller_identity.current.account_id}:root" }
      Action    = "kms:*"
      Resource  = "*"
    }]
  })
  tags = var.tags
}

resource "aws_dynamodb_table" "this" {
  name                        = coalesce(var.name, local.schema.tableName)
  billing_mode                = "PAY_PER_REQUEST"
  hash_key                    = local.schema.partitionKey
  range_key                   = local.schema.sortKey
  deletion_protection_enabled = var.deletion_protection

  dynamic "attribute" {
    for_each = local.schema.attributes
    content {
      name = attribute.key
      type = attribute.value
    }
  }

  dynamic "global_secondary_index" {
    for_each = local.schema.globalSecondaryIndexes
    content {
      name = global_secondary_index.value.name
      # ALL, as the code's own table creation (detector/src/cloud/table.rs) projects.
      projection_type = "ALL"
      key_schema {
        attribute_name = global_secondary_index.value.partitionKey
        key_type       = "HASH"
      }
      key_schema {
        attribute_name = global_secondary_index.value.sortKey
        key_type       = "RANGE"
      }
    }
  }

  point_in_time_recovery {
    enabled = true
  }

  server_side_encryption {
    enabled     = true
    kms_key_arn = aws_kms_key.table.arn
  }

  tags = var.tags
}
