/*
 * A Kafka broker for tests: librdkafka's in-process mock cluster, which speaks the
 * real Kafka protocol (produce, fetch, consumer groups, offsets) on 127.0.0.1.
 * There is no Kafka package in the registries and no Docker here; this is the stand-in.
 *
 * usage: mock-kafka <brokers> <partitions> [<topic>[:<partitions>] ...]
 * Prints the bootstrap address as the first stdout line, then reads commands from
 * stdin until it closes (or SIGTERM ends the process). Each command answers one line,
 * "ok" or "error <reason>", so a caller can await it:
 *   down <broker_id> | up <broker_id>          take a broker off / back on the network
 *   rtt <broker_id> <ms>                       add round-trip latency to a broker
 *   err <apikey> <errcode> <count>             fail the next <count> requests of an API
 *   topic <name> <partitions>                  create another topic
 */
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int command(rd_kafka_mock_cluster_t *mc, int replicas, const char *line) {
  char name[256];
  int a, b, c;
  if (sscanf(line, "down %d", &a) == 1) return rd_kafka_mock_broker_set_down(mc, a);
  if (sscanf(line, "up %d", &a) == 1) return rd_kafka_mock_broker_set_up(mc, a);
  if (sscanf(line, "rtt %d %d", &a, &b) == 2) return rd_kafka_mock_broker_set_rtt(mc, a, b);
  if (sscanf(line, "err %d %d %d", &a, &b, &c) == 3) {
    for (int i = 0; i < c; i++) rd_kafka_mock_push_request_errors(mc, (int16_t)a, 1, (rd_kafka_resp_err_t)b);
    return 0;
  }
  if (sscanf(line, "topic %255s %d", name, &a) == 2) return rd_kafka_mock_topic_create(mc, name, a, replicas);
  return -1;
}

int main(int argc, char **argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: %s <brokers> <partitions> [<topic>[:<partitions>] ...]\n", argv[0]);
    return 2;
  }
  int brokers = atoi(argv[1]), partitions = atoi(argv[2]);
  int replicas = brokers < 3 ? brokers : 3;
  char errstr[512];
  rd_kafka_conf_t *conf = rd_kafka_conf_new();
  rd_kafka_conf_set(conf, "log_level", "3", errstr, sizeof errstr);
  /* The mock cluster lives inside a client handle; this one never connects anywhere. */
  rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof errstr);
  if (!rk) { fprintf(stderr, "rd_kafka_new: %s\n", errstr); return 1; }
  rd_kafka_mock_cluster_t *mc = rd_kafka_mock_cluster_new(rk, brokers);
  if (!mc) { fprintf(stderr, "rd_kafka_mock_cluster_new failed\n"); return 1; }
  /* Explicit topics: clients then see the partition count we chose, not the mock's default. */
  for (int i = 3; i < argc; i++) {
    char *colon = strchr(argv[i], ':');
    int n = colon ? atoi(colon + 1) : partitions;
    if (colon) *colon = '\0';
    if (rd_kafka_mock_topic_create(mc, argv[i], n, replicas)) { fprintf(stderr, "topic %s failed\n", argv[i]); return 1; }
  }
  printf("%s\n", rd_kafka_mock_cluster_bootstraps(mc));
  fflush(stdout);
  char line[512];
  while (fgets(line, sizeof line, stdin)) {
    int rc = command(mc, replicas, line);
    if (rc == 0) printf("ok\n");
    else printf("error %s\n", rc < 0 ? "unknown command" : rd_kafka_err2str((rd_kafka_resp_err_t)rc));
    fflush(stdout);
  }
  rd_kafka_mock_cluster_destroy(mc);
  rd_kafka_destroy(rk);
  return 0;
}
