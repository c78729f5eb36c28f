// Shared by web, api and worker so prices and orders read the same everywhere.
function formatPrice(cents) {
  return `€${(cents / 100).toFixed(2)}`;
}

function validateOrder(order) {
  const problems = [];
  if (!Number.isInteger(order?.userId)) problems.push('userId must be an integer');
  if (!Array.isArray(order?.items) || order.items.length === 0) problems.push('items must be a non-empty list');
  return problems;
}

function orderSubject(orderId) {
  return `Your order #${orderId}`;
}

module.exports = { formatPrice, validateOrder, orderSubject };
