import { formatPrice, type Product } from '@shop/shared';

async function showProducts(): Promise<void> {
  const res = await fetch('/api/products');
  const products = (await res.json()) as Product[];
  const list = document.getElementById('products');
  if (!list) return;
  list.innerHTML = '';
  for (const p of products) {
    const item = document.createElement('li');
    item.textContent = `${p.name} — ${formatPrice(p.priceCents)}`;
    list.append(item);
  }
}

void showProducts();
