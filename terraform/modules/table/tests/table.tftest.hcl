# The table is exactly schemas/movie-entities.table.json, with production settings.
mock_provider "aws" {
  mock_data "aws_caller_identity" {
    defaults = { account_id = "123456789012" }
  }
  mock_resource "aws_kms_key" {
    defaults = { arn = "arn:aws:kms:eu-west-1:123456789012:key/00000000-0000-0000-0000-000000000000" }
  }
}

run "the_table_equals_the_schema_file" {
  assert {
    condition     = aws_dynamodb_table.this.name == jsondecode(file("../../../schemas/movie-entities.table.json")).tableName
    error_message = "The table's name is the schema's."
  }

  assert {
    condition = (
      aws_dynamodb_table.this.hash_key == jsondecode(file("../../../schemas/movie-entities.table.json")).partitionKey
      && aws_dynamodb_table.this.range_key == jsondecode(file("../../../schemas/movie-entities.table.json")).sortKey
    )
    error_message = "The table's keys are the schema's."
  }

  assert {
    condition = (
      { for a in aws_dynamodb_table.this.attribute : a.name => a.type }
      == jsondecode(file("../../../schemas/movie-entities.table.json")).attributes
    )
    error_message = "The table declares exactly the schema's attributes, with their types."
  }

  assert {
    condition = (
      {
        for g in aws_dynamodb_table.this.global_secondary_index : g.name => {
          partitionKey = one([for k in g.key_schema : k.attribute_name if k.key_type == "HASH"])
          sortKey      = one([for k in g.key_schema : k.attribute_name if k.key_type == "RANGE"])
          projection   = g.projection_type
        }
      }
      == {
        for g in jsondecode(file("../../../schemas/movie-entities.table.json")).globalSecondaryIndexes : g.name => {
          partitionKey = g.partitionKey
          sortKey      = g.sortKey
          projection   = "ALL"
        }
      }
    )
    error_message = "The table's indexes are exactly the schema's, with their keys."
  }
}

run "on_demand_recoverable_encrypted_protected" {
  assert {
    condition     = aws_dynamodb_table.this.billing_mode == "PAY_PER_REQUEST"
    error_message = "On demand."
  }

  assert {
    condition     = one(aws_dynamodb_table.this.point_in_time_recovery).enabled
    error_message = "Point-in-time recovery is on."
  }

  assert {
    condition     = one(aws_dynamodb_table.this.server_side_encryption).enabled && one(aws_dynamodb_table.this.server_side_encryption).kms_key_arn == aws_kms_key.table.arn
    error_message = "Encrypted with the module's own key."
  }

  assert {
    condition     = aws_dynamodb_table.this.deletion_protection_enabled
    error_message = "Deletion protection is on by default."
  }
}

run "a_name_overrides_the_schema_name" {
  variables {
    name = "FlowEntities"
  }

  assert {
    condition     = aws_dynamodb_table.this.name == "FlowEntities"
    error_message = "The name variable wins."
  }
}
