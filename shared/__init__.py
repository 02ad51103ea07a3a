"""DSR Intake: the code every Lambda function shares.

The domain core (forms, validation, case rules, decisions) is pure Python with no boto3;
AWS access lives in `shared.adapters`.
"""
