// The Swarm target of `kyozo up|down|ps --target swarm`.
export { SwarmDeployer, type SwarmOptions, type SwarmUpOptions } from './swarm-deployer';
export { SwarmUnavailableError, swarmManagerProblem } from './swarm-manager';
export { swarmServiceSpec, swarmServiceName, STACK_NAMESPACE_LABEL } from './swarm-spec';
