#include <gtest/gtest.h>

#include "storage/s3_signer.h"

namespace cutroom::storage {
namespace {

// AWS's worked example "GET Object" (Signature Calculations for the
// Authorization Header, Amazon S3 API reference).
S3SigningInput AwsGetObjectExample() {
  S3SigningInput in;
  in.method = "GET";
  in.canonical_uri = "/test.txt";
  in.headers = {{"Host", "examplebucket.s3.amazonaws.com"},
                {"Range", "bytes=0-9"},
                {"x-amz-content-sha256", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
                {"x-amz-date", "20130524T000000Z"}};
  in.payload_sha256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
  in.amz_date = "20130524T000000Z";
  in.region = "us-east-1";
  return in;
}

TEST(S3Signer, CanonicalRequestMatchesAwsExample) {
  EXPECT_EQ(S3CanonicalRequest(AwsGetObjectExample()),
            "GET\n/test.txt\n\n"
            "host:examplebucket.s3.amazonaws.com\nrange:bytes=0-9\n"
            "x-amz-content-sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\n"
            "x-amz-date:20130524T000000Z\n\n"
            "host;range;x-amz-content-sha256;x-amz-date\n"
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

TEST(S3Signer, AuthorizationMatchesAwsExample) {
  S3Credentials creds{"AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", ""};
  EXPECT_EQ(S3Authorization(AwsGetObjectExample(), creds),
            "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,"
            "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date,"
            "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
}

TEST(S3Signer, AnotherSecretGivesAnotherSignature) {
  S3Credentials a{"AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", ""};
  S3Credentials b{"AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEz", ""};
  EXPECT_NE(S3Authorization(AwsGetObjectExample(), a), S3Authorization(AwsGetObjectExample(), b));
}

TEST(S3Signer, QueryIsSortedEncodedAndKeepsEmptyValues) {
  // curl 7.88 signs "?uploads" as "uploads": S3 wants "uploads=".
  EXPECT_EQ(S3CanonicalQuery({{"uploads", ""}}), "uploads=");
  EXPECT_EQ(S3CanonicalQuery({{"uploadId", "a/b+c"}, {"partNumber", "2"}}), "partNumber=2&uploadId=a%2Fb%2Bc");
  EXPECT_EQ(S3CanonicalQuery({{"prefix", "my dir/"}, {"list-type", "2"}}), "list-type=2&prefix=my%20dir%2F");
}

TEST(S3Signer, PathsKeepSlashesAndEncodeTheRest) {
  EXPECT_EQ(S3UriEncode("media/vid_01/source", true), "media/vid_01/source");
  EXPECT_EQ(S3UriEncode("a b/c~d", true), "a%20b/c~d");
  EXPECT_EQ(S3UriEncode("a/b", false), "a%2Fb");
}

TEST(S3Signer, AmzDateIsUtc) { EXPECT_EQ(S3AmzDate(1369353600000), "20130524T000000Z"); }

}  // namespace
}  // namespace cutroom::storage
