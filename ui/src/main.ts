import { mount } from 'svelte';
import './app.css';
import App from './App.svelte';
import { workOrderList } from './features/work-orders/list-state.svelte';

// Start-up marks, read by the app benchmark (`./dev bench-app`) to split the cold start.
performance.mark('fieldbook:modules-evaluated');
// The list is the first screen: its first page is asked for while the screens are built.
if (location.hash === '' || location.hash === '#/') void workOrderList.open();
const target = document.getElementById('app');
if (!target) throw new Error('index.html has no #app element');

const app = mount(App, { target });
performance.mark('fieldbook:mounted');
export default app;
