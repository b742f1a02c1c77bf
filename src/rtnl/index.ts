// rtnetlink: addresses and links, on top of src/netlink. Knows nothing of IPVS or realservers.
export { RtnlSocket } from './socket';
export { listAddresses, addAddress, deleteAddress, newAddressMessage, deleteAddressMessage, toAddress, type Address, type AddressRequest } from './address';
export { listLinks, linkByName, linkByIndex, createTunnel, createTunnelMessage, deleteLink, setLinkUp, type Link, type TunnelKind } from './link';
export { IFA_F } from './spec';
