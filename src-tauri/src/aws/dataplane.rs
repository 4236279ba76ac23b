//! The AWS IoT data plane (aws-sdk-iotdataplane): publishing to device topics, writing
//! device shadows and dropping a client's connection. Which devices may be sent to is decided elsewhere; this only delivers.
//! Its failures keep their kind ([`AwsError`]), so that the channel can tell a throttled
//! delivery from a failed one.

use super::errors::AwsError;
use aws_config::SdkConfig;
use aws_sdk_iotdataplane::primitives::Blob;
use aws_sdk_iotdataplane::Client;

pub struct DataPlane {
    client: Client,
}

impl DataPlane {
    /// `url` is the data endpoint (`https://…-ats.iot.REGION.amazonaws.com`, or the lab's
    /// address); without one the SDK's regional default is used.
    pub fn new(
        conf: &SdkConfig,
        url: Option<&str>,
        interceptors: &super::config::Interceptors,
    ) -> DataPlane {
        let mut b = aws_sdk_iotdataplane::config::Builder::from(conf);
        for i in interceptors {
            b.push_interceptor(i.clone());
        }
        if let Some(u) = url {
            b = b.endpoint_url(u);
        }
        DataPlane {
            client: Client::from_conf(b.build()),
        }
    }

    /// A data plane on a ready-made client (tests use mocked ones).
    pub fn from_client(client: Client) -> DataPlane {
        DataPlane { client }
    }

    /// Publishes `payload` to `topic` with QoS 1.
    pub async fn publish(&self, topic: &str, payload: Vec<u8>) -> Result<(), AwsError> {
        self.client
            .publish()
            .topic(topic)
            .qos(1)
            .payload(Blob::new(payload))
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("Publish", &e))?;
        Ok(())
    }

    /// Writes `document` to the thing's shadow; returns the document the service answered.
    pub async fn update_shadow(
        &self,
        thing: &str,
        shadow: Option<&str>,
        document: Vec<u8>,
    ) -> Result<Vec<u8>, AwsError> {
        let out = self
            .client
            .update_thing_shadow()
            .thing_name(thing)
            .set_shadow_name(shadow.map(str::to_string))
            .payload(Blob::new(document))
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("UpdateThingShadow", &e))?;
        Ok(out
            .payload()
            .map(|b| b.as_ref().to_vec())
            .unwrap_or_default())
    }

    /// Drops the MQTT connection of `client_id` (IoT Core's `DeleteConnection`), never
    /// publishing its will message; keeps its persistent session unless `clean_session`.
    pub async fn delete_connection(
        &self,
        client_id: &str,
        clean_session: bool,
    ) -> Result<(), AwsError> {
        self.client
            .delete_connection()
            .client_id(client_id)
            .clean_session(clean_session)
            .prevent_will_message(true)
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("DeleteConnection", &e))?;
        Ok(())
    }

    /// Reads the thing's shadow document.
    pub async fn get_shadow(&self, thing: &str, shadow: Option<&str>) -> Result<Vec<u8>, AwsError> {
        let out = self
            .client
            .get_thing_shadow()
            .thing_name(thing)
            .set_shadow_name(shadow.map(str::to_string))
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("GetThingShadow", &e))?;
        Ok(out
            .payload()
            .map(|b| b.as_ref().to_vec())
            .unwrap_or_default())
    }
}
