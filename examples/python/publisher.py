"""Publishes a sensor reading every 2 seconds, retained, at QoS 1 (the article's publisher, made robust).

Host and port come from MQTT_HOST and MQTT_PORT (default localhost:1883). Works with paho-mqtt 1.6
(Debian's python3-paho-mqtt) and 2.x.
"""
import os
import random
import time

import paho.mqtt.client as mqtt

HOST = os.environ.get("MQTT_HOST", "localhost")
PORT = int(os.environ.get("MQTT_PORT", "1883"))
TOPIC = os.environ.get("MQTT_TOPIC", "example/basic")


def new_client(client_id):
    if hasattr(mqtt, "CallbackAPIVersion"):  # paho-mqtt 2.x
        return mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id)
    return mqtt.Client(client_id=client_id)


def main():
    client = new_client("example-publisher-%d" % os.getpid())
    client.connect(HOST, PORT, keepalive=30)
    client.loop_start()  # the network loop runs in the background: acknowledgements, keep-alive, reconnects
    try:
        while True:
            status = random.randint(1, 100)
            info = client.publish(TOPIC, payload=str(status), qos=1, retain=True)
            info.wait_for_publish()  # returns once the broker acknowledged it (PUBACK)
            print("Sending " + str(status), flush=True)  # printed once acknowledged
            time.sleep(2)
    finally:
        client.loop_stop()
        client.disconnect()


if __name__ == "__main__":
    main()
