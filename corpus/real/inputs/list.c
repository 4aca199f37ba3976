#include <stdio.h>
#include <stdlib.h>
#include <string.h>
struct node { struct node *next; int key; char name[24]; };
static struct node *push(struct node *h, int k) { struct node *n = malloc(sizeof(*n)); if (!n) exit(1); n->next = h; n->key = k; snprintf(n->name, sizeof(n->name), "node-%d", k); return n; }
static int sum(const struct node *h) { int s = 0; for (; h; h = h->next) s += h->key * (int)strlen(h->name); return s; }
int main(int argc, char **argv) { struct node *h = NULL; for (int i = 0; i < argc * 1000; i++) h = push(h, i); printf("%d\n", sum(h)); while (h) { struct node *n = h->next; free(h); h = n; } return 0; }
