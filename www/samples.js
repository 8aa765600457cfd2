// The sample queries the playground offers: one per feature, against the sample services
// (services.mjs), whose product and price mappings declare batch endpoints. `saved` names a
// saved query of the demo server instead of a text.

export const SAMPLES = [
  {
    name: "Chains and multiplexing",
    query: `// search runs first; product waits for its ids and has one item per id; price
// waits for product and has one item per sku. Their mappings declare batch endpoints,
// so each statement's items go out as one call: 3 calls for 11 items.
from search with q = $q, limit = 5 only ids, total
from product with id = search.ids only id, name, brand, sku
from price with sku = product.sku only amount, currency, onSale`,
    variables: { q: "tv" },
  },
  {
    name: "Dedupe",
    query: `// Identical items are fetched once: products 2 and 3 are asked for twice. The
// batch call carries each key once (4 keys) and the repeated items are deduped.
from product as featured with id = [1, 2, 3] only name
from product as related with id = [3, 2, 4] only name`,
    variables: {},
  },
  {
    name: "Batching",
    query: `// product and price declare batch endpoints in their mappings
// (GET /products?id=1&id=2, GET /prices?sku=a,b, at most 50 keys a call): the 80 ids
// go out in 2 calls per endpoint, and each item gets its own result and status.
from search with q = $q, limit = 80 only ids
from product with id = search.ids only name, sku
from price with sku = product.sku only amount`,
    variables: { q: "" },
  },
  {
    name: "only and hidden",
    query: `// cart is fetched but left out of the answer (hidden); only picks fields.
from customer with id = $customer only name, tier
from cart with id = customer.cartId hidden
from product with id = cart.items.productId only name, brand`,
    variables: { customer: 3 },
  },
  {
    name: "depends-on",
    query: `// cart does not use the customer's data but waits for it (depends-on).
from customer with id = $customer only name
from cart depends-on customer with id = $cart only items`,
    variables: { customer: 1, cart: 501 },
  },
  {
    name: "ignore-errors (flaky shipping)",
    query: `// shipping fails one quote in four; with ignore-errors its failures do not
// raise the aggregated status, and its details keep each quote's status.
from product with id = [1, 2, 3, 4, 5, 6, 7, 8] only sku, name
from shipping with zip = $zip, sku = product.sku ignore-errors`,
    variables: { zip: "10001" },
  },
  {
    name: "Timeouts",
    query: `// shipping answers in 250-500 ms: a 100 ms timeout cuts it short (408).
from product with id = 1 only name, sku
from shipping timeout 100 with zip = $zip, sku = product.sku`,
    // Another zip than the ignore-errors sample's: the client may have cached that quote.
    variables: { zip: "94105" },
  },
  {
    name: "Hundreds of calls",
    query: `// -> no-batch opts out of the batch endpoints: 150 products and their 150 prices
// are 301 calls, run in a worker so the page stays responsive.
from search with q = $q, limit = 150 only ids
from product with id = search.ids -> no-batch only sku
from price with sku = product.sku -> no-batch only amount`,
    variables: { q: "" },
  },
  {
    name: "Cache (run it twice)",
    query: `// With the client cache on, a second run within the answers' max-age (search 60 s,
// catalog 300 s, prices 30 s) is served from it: cached rows and no upstream call.
from search with q = $q, limit = 4 only ids
from product with id = search.ids only name, sku
from price with sku = product.sku only amount`,
    variables: { q: "audio" },
  },
  {
    name: "Saved query: shop/customer-cart/1",
    saved: { namespace: "shop", name: "customer-cart", revision: 1 },
    variables: { customer: 3 },
  },
];
